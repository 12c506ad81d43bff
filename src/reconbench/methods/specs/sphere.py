SPEC = {
    "name": "sphere",
    "paradigm": "reference",
    "representation": "mesh",
    "entry": "reconbench.methods.reference.sphere:run",
    "description": "Lower bound: a sphere at the origin whose radius matches the input silhouettes' area, "
    "coloured with their mean foreground colour.",
    "input_views": (1, 2, 3, 4, 6, 8, 16),
    "timeout_s": 60,
}
