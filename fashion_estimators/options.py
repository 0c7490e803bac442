"""The named options of the estimators and of the command line: augmentation
recipes and export formats.

Plain data, without TensorFlow, so that the command line offers the same
choices the estimators accept before it loads TensorFlow.
"""

from __future__ import annotations

AUGMENT_RECIPES: dict[str, dict] = {
    "flip": dict(shift=0.0, rotation=0.0, zoom=0.0, horizontal_flip=True),
    "flip+erase": dict(
        shift=0.0, rotation=0.0, zoom=0.0, horizontal_flip=True, erasing=0.5
    ),
}
"""The named recipes of the classifiers' ``augment`` parameter, as
``FashionAugmenter`` parameters: "flip" mirrors each image left-right at
random; "flip+erase" also overwrites a random rectangle of half the images
with noise (Random Erasing)."""

EXPORT_FORMATS: dict[str, str] = {
    "onnx": "onnx",
    "saved_model": "tf_saved_model",
    "litert": "litert",
}
"""The formats :func:`~fashion_estimators.export` writes, and Keras' own names
for them: ONNX (needs ``tf2onnx``; run it with ``onnxruntime``), a TensorFlow
SavedModel folder, and a LiteRT (TensorFlow Lite) flat buffer."""

# the service's defaults (``serving.create_app`` and ``fashion-estimators serve``)
SERVE_HOST = "127.0.0.1"
SERVE_PORT = 8000
SERVE_MAX_UPLOAD_MB = 10
SERVE_MAX_IMAGES = 16
SERVE_MAX_BATCH = 64
