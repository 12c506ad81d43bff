"""Upstream (external) methods: research code run as commands in its own environment.

A spec (methods/specs/*.py) says everything as data: the pinned repository, the environment recipe, the
weights, the steps as argument lists with placeholders, where the output lands, its representation and
frame, and what input it expects (docs/adapters.md). This package turns that data into work:

- `command`: the placeholders, `build_steps` (argument lists with concrete values, never a shell string)
  and `validate_spec` (what is wrong with a spec, checked by the tests for every registered one);
- `inputs`: `prepare_method_inputs`, the input image(s) written the way a method expects them;
- `outputs`: `discover_output`, the asset file a method wrote (unzipped when it ships a zip);
- `hooks/`: small scripts of ours that run inside a method's environment (e.g. saving threestudio's Gaussians).
"""
