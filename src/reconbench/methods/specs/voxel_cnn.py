SPEC = {
    "name": "voxel-cnn",
    "paradigm": "feed-forward",
    "representation": "mesh",
    "entry": "reconbench.methods.voxel_cnn.method:run",
    "description": "Our own learned feed-forward reconstructor: a small CNN encodes the front input view into a 32^3 "
    "occupancy-and-colour grid (1.2 M parameters), carved by every input silhouette and meshed by marching cubes. "
    "Trained here by `reconbench train voxel-cnn` on random variants of the procedural families (seeds disjoint "
    "from the evaluation objects), so on `procedural` it measures in-distribution generalisation. Trained for the "
    "input camera of `default` / `sparse4` only.",
    "input_views": (1, 4),
    "uses_gpu_if_present": True,
    "frame": "y-up",
    "scale": "none",
    "requires": ("torch", "skimage"),
    "timeout_s": 300,
    "training": {
        "entry": "reconbench.methods.voxel_cnn.train:train_entry",
        "weights": "reconbench.methods.voxel_cnn:weights",  # package folder with model.pt and training.json
    },
    "sources": (
        {
            "title": "Choy et al., 3D-R2N2 (ECCV 2016): image encoder to voxel occupancy",
            "url": "https://arxiv.org/abs/1604.00449",
        },
        {
            "title": "Tatarchenko et al., What Do Single-view 3D Reconstruction Networks Learn? (CVPR 2019)",
            "url": "https://arxiv.org/abs/1905.03678",
        },
    ),
    "licence": "MIT (this implementation and its weights, trained here on generated data)",
}
