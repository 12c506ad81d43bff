SPEC = {
    "name": "visual-hull",
    "paradigm": "reference",
    "representation": "mesh",
    "entry": "reconbench.methods.reference.visual_hull:run",
    "description": "Voxel carving from the input silhouettes (128^3 over the unit box), marching cubes, "
    "vertex colours projected from the input view that sees each vertex best. Meaningful with sparse4.",
    "input_views": (1, 2, 3, 4, 6, 8, 16),
    "requires": ("skimage",),
    "timeout_s": 300,
    "sources": (
        {
            "title": "Laurentini, The visual hull concept for silhouette-based image understanding (TPAMI 1994)",
            "url": "https://doi.org/10.1109/34.273735",
        },
    ),
}
