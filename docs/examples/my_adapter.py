"""A minimal upstream adapter: tiny_recon (tests/data/tiny_external) run in its own environment."""

SPEC = {
    "name": "my-adapter",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "description": "Example: a program that writes a box for each input image.",
    "upstream": {"repo": "https://github.com/example/tiny-recon", "commit": "0123456789abcdef0123456789abcdef01234567"},
    "environment": {"python": "3.11", "packages": ["{repo}"]},
    "steps": ({"stage": "generation", "argv": ["{python}", "-m", "tiny_recon", "{inputs}", "--out", "{out}"]},),
    "output": {"path": "0/mesh.obj", "format": "obj"},
    "inputs": {"background": "transparent", "resolution": 128, "batch": True},
    "stage_markers": ({"stage": "model_load", "pattern": "^model loaded"},),
    "frame": "z-up-front-x",
    "scale": "bbox",
    "timeout_s": 120,
    "sources": ({"title": "tiny-recon", "url": "https://github.com/example/tiny-recon"},),
    "licence": "MIT",
}
