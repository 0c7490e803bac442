"""The service's OpenAPI document, and the same as a plain HTML page.

A test checks that the document and the application never drift apart: the
same routes and methods, and the statuses each route answers.
"""

from __future__ import annotations

import html

from .._images import N_PIXELS, PIXEL_MAX
from .limits import TOP, Limits

_ERROR = {"$ref": "#/components/schemas/Error"}


def _answer(description: str, schema=None, media: str = "application/json") -> dict:
    return {
        "description": description,
        "content": {media: {"schema": schema or _ERROR}},
    }


def _get(summary: str, responses: dict) -> dict:
    return {"get": {"summary": summary, "responses": responses}}


_NOT_READY = _answer("the model is not loaded yet, or could not be loaded")
_PAGE = _answer("the page", {"type": "string"}, "text/html")

_PIXELS_BODY = {
    "type": "object",
    "required": ["pixels"],
    "properties": {
        "pixels": {
            "type": "array",
            "items": {
                "type": "array",
                "minItems": N_PIXELS,
                "maxItems": N_PIXELS,
                "items": {"type": "integer", "minimum": 0, "maximum": PIXEL_MAX},
            },
        }
    },
}

_FILES_BODY = {
    "type": "object",
    "properties": {
        "file": {"type": "string", "format": "binary"},
        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
    },
}

_PREDICTIONS = {
    "type": "object",
    "properties": {
        "predictions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "file": {"type": ["string", "null"]},
                    "top": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "class": {"type": "string"},
                                "label": {},
                                "probability": {"type": "number"},
                            },
                        },
                    },
                    "unlike_training": {"type": ["boolean", "null"]},
                    "novelty_score": {"type": ["number", "null"]},
                    "pixels": {"type": "array", "items": {"type": "integer"}},
                },
            },
        }
    },
}


def openapi(limits: Limits, classes: list[str] | None = None) -> dict:
    """The OpenAPI 3.1 document of a service with these ``limits``; its
    description names the model's ``classes`` once they are known."""
    pixels_body = {
        **_PIXELS_BODY,
        "properties": {
            "pixels": {
                **_PIXELS_BODY["properties"]["pixels"],
                "maxItems": limits.max_images,
            }
        },
    }
    predict = {
        "summary": "Classify images",
        "description": f"Up to {limits.max_images} images in a body of at most "
        f"{limits.max_upload_bytes:,} bytes. A photo is cut to its garment and "
        "made a 28x28 grey image; a 28x28 image is taken as it is.",
        "parameters": [
            {
                "name": "top",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "default": TOP},
                "description": "classes answered per image",
            },
            {
                "name": "pixels",
                "in": "query",
                "schema": {"type": "boolean", "default": False},
                "description": "also answer the 28x28 image the model saw",
            },
        ],
        "requestBody": {
            "required": True,
            "content": {
                "multipart/form-data": {"schema": _FILES_BODY},
                "application/json": {"schema": pixels_body},
            },
        },
        "responses": {
            "200": _answer(
                "one prediction per image, in order",
                {"$ref": "#/components/schemas/Predictions"},
            ),
            "400": _answer("a malformed request"),
            "408": _answer(
                f"a body that took more than {limits.read_timeout:g} s to arrive"
            ),
            "413": _answer("a body over the size limit"),
            "415": _answer("neither multipart/form-data nor JSON"),
            "422": _answer("a file that is not a readable image"),
            "503": _answer(
                "the model is not ready, or the service holds too many uploads "
                "at once; try again"
            ),
        },
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "fashion-estimators model service",
            "version": "2",
            "description": "Classifies photos of garments with one trained model. "
            "Every answer carries the model file's SHA-256 in the header "
            "X-Model-SHA256."
            + ("" if classes is None else f" Classes: {', '.join(classes)}."),
        },
        "paths": {
            "/": _get("The page: pick or drop a photo", {"200": _PAGE}),
            "/predict": {"post": predict},
            "/health": _get(
                "Liveness: the service answers; and the images answered, in how "
                "many network calls",
                {"200": _answer("alive", {"type": "object"})},
            ),
            "/ready": _get(
                "Readiness: the model is loaded and has made a warm-up prediction",
                {"200": _answer("ready", {"type": "object"}), "503": _NOT_READY},
            ),
            "/metrics": _get(
                "Metrics in Prometheus' text format",
                {"200": _answer("the metrics", {"type": "string"}, "text/plain")},
            ),
            "/model": _get(
                "The model card (its model_file.sha256 is X-Model-SHA256)",
                {"200": _answer("the card", {"type": "object"}), "503": _NOT_READY},
            ),
            "/samples": _get(
                "The page's sample images (test-set images)",
                {
                    "200": _answer(
                        "their names and addresses",
                        {"type": "array", "items": {"type": "object"}},
                    )
                },
            ),
            "/openapi.json": _get(
                "This document", {"200": _answer("the document", {"type": "object"})}
            ),
            "/docs": _get("This document as a page", {"200": _PAGE}),
        },
        "components": {
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "status": {"type": "integer"},
                                "message": {"type": "string"},
                            },
                        }
                    },
                },
                "Predictions": _PREDICTIONS,
            }
        },
    }


def docs_page(spec: dict) -> str:
    """The API as a plain HTML page (no script, nothing from elsewhere)."""
    rows = []
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            statuses = ", ".join(operation["responses"])
            rows.append(
                f"<h2>{method.upper()} {html.escape(path)}</h2>"
                f"<p>{html.escape(operation['summary'])}. "
                f"{html.escape(operation.get('description', ''))}</p>"
                f"<p>Answers: {statuses}.</p>"
            )
    return (
        "<!doctype html><html lang=en><meta charset=utf-8>"
        f"<title>{html.escape(spec['info']['title'])}</title>"
        f"<h1>{html.escape(spec['info']['title'])}</h1>"
        f"<p>{html.escape(spec['info']['description'])}</p>"
        '<p>The full description: <a href="/openapi.json">openapi.json</a>.</p>'
        + "".join(rows)
        + "</html>"
    )
