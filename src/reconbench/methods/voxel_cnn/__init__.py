"""voxel-cnn: our own learned feed-forward reconstructor (docs/voxel-cnn.md).

A small 2D CNN encodes the front input view; its feature map is lifted into a coarse 3D feature
volume and decoded by a 3D CNN into a 32^3 grid of occupancy and colour, meshed by marching
cubes. It is trained here, by `reconbench train voxel-cnn`, on random variants of the procedural
families (datasets/procedural/variants.py), so its whole cost, training included, is measured on
the machine that runs it. `network` holds the model, `data` the training set, `train` the training
loop and its record, `method` the reconbench method.
"""
