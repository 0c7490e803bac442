"""
Serve a model: a web page and a JSON API
========================================

``fashion-estimators serve cnn.fashion`` puts a trained model in front of
people: a page at ``http://127.0.0.1:8000/`` and a JSON API. The same service
is an ASGI application that :func:`fashion_estimators.serving.create_app`
builds, to mount in a service of one's own. Here it runs in this process,
under uvicorn on a free port of 127.0.0.1, and is asked two ways: a photo
upload, as the page sends it, and JSON pixels, as a program would. Needs
``pip install fashion-estimators[serve]``.
"""

import io
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import requests
import uvicorn
from matplotlib.figure import Figure
from PIL import Image

from fashion_estimators import (
    FashionCNNClassifier,
    fetch_fashion_mnist,
    save_model,
    stratified_subset,
)
from fashion_estimators.serving import create_app, listen

X, y = fetch_fashion_mnist(subset="train", return_X_y=True)
X_test, y_test = fetch_fashion_mnist(subset="test", return_X_y=True)
X_small, y_small = stratified_subset(X, y, 3000, random_state=0)
# sphinx_gallery_start_ignore
# The test suite sets FASHION_EXAMPLES_QUICK=1 to run each example on 500 images.
from os import environ  # noqa: E402

if environ.get("FASHION_EXAMPLES_QUICK") == "1":
    X_small, y_small = stratified_subset(X, y, 500, random_state=0)
# sphinx_gallery_end_ignore
clf = FashionCNNClassifier(epochs=3, batch_size=64, random_state=0)
clf.fit(X_small, y_small)
folder = Path(tempfile.mkdtemp())
save_model(clf, folder / "cnn.fashion")

# %%
# Build the app (it loads the file and converts the network to onnxruntime)
# and serve it from a thread; port 0 takes any free port.
app = create_app(folder / "cnn.fashion")
sock = listen("127.0.0.1", 0)
server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]})
thread.start()
while not server.started:
    time.sleep(0.05)
url = f"http://127.0.0.1:{sock.getsockname()[1]}"
print(requests.get(f"{url}/health", timeout=10).json())

# %%
# A photo, as the page uploads it: test image 0 as a 300x400 shop photo,
# dark on a white background. ``?pixels=true`` also answers the 28x28 image
# the model saw.
garment = Image.fromarray((255 - X_test[0]).reshape(28, 28).astype(np.uint8))
photo = Image.new("L", (300, 400), 255)
photo.paste(garment.resize((280, 280)), (10, 60))
upload = io.BytesIO()
photo.save(upload, "JPEG", quality=90)
answer = requests.post(
    f"{url}/predict?pixels=true",
    files={"file": ("boot.jpg", upload.getvalue(), "image/jpeg")},
    timeout=30,
).json()["predictions"][0]
for entry in answer["top"]:
    print(f"{entry['class']}: {entry['probability']:.3f}")
print("looks unlike the training data:", answer["unlike_training"])

# %%
# JSON pixels, as a program sends them: rows of 784 integers. The second
# image is noise, which the service says looks unlike the training data.
noise = np.random.default_rng(0).integers(0, 256, 784)
rows = [X_test[1].tolist(), noise.tolist()]
for prediction in requests.post(
    f"{url}/predict", json={"pixels": rows}, timeout=30
).json()["predictions"]:
    print(
        prediction["top"][0]["class"],
        f"novelty score {prediction['novelty_score']:.2f}",
        "unlike the training data" if prediction["unlike_training"] else "",
    )

# %%
# What the page shows: the photo, the image the model saw, the top 3 bars.
figure = Figure(figsize=(9, 3), layout="constrained")
left, middle, right = figure.subplots(1, 3, width_ratios=[1, 1, 1.6])
left.imshow(photo, cmap="gray")
left.set_title("the photo")
middle.imshow(np.reshape(answer["pixels"], (28, 28)), cmap="gray")
middle.set_title("what the model saw")
names = [entry["class"] for entry in answer["top"]][::-1]
right.barh(names, [entry["probability"] for entry in answer["top"]][::-1])
right.set_xlim(0, 1)
right.set_title("top 3")
for axis in (left, middle):
    axis.set_axis_off()

# %%
# Stop the server: requests under way finish first.
server.should_exit = True
thread.join()
