SPEC = {
    "name": "oracle",
    "paradigm": "reference",
    "representation": "mesh",
    "entry": "reconbench.methods.reference.oracle:run",
    "description": "Returns the ground-truth file itself. It must score perfectly on every object: "
    "proof that conversion, normalisation, rendering and scoring leak nothing.",
    "input_views": (1, 2, 3, 4, 6, 8, 16),
    "needs_ground_truth": True,
    "scale": "bbox",  # normalised exactly as the dataset normalises the ground truth
    "timeout_s": 60,
}
