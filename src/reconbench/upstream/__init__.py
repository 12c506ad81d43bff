"""Upstream methods: someone else's research code run as commands in its own environment.

Everything about running upstream code lives here, and imports point one way: `upstream` imports `methods`
(the spec and its typed recipe, methods/recipe.py), never the reverse. Adding an adapter touches `adapters/`.

- `adapters/`: one module per method, its SPEC as data (`_pins`: packages several adapters pin the same way);
- `validate`: what is wrong with a spec (run when a method is registered, reconbench.registry);
- `placeholders`: the one set of placeholders and the one substitution, for run steps and environment recipes;
- `command`: `run_commands`, a method's steps as argument lists with concrete values (never a shell string);
- `run`: `run_external`, the entry point of every adapter (environment, inputs, commands, timing, output);
- `timing`: stage times from marker lines; `shim`: the interpreter start-up line (SHIM_READY_LINE);
- `inputs`: the input image(s) written the way a method expects them; `input_camera`: the camera it assumes;
- `outputs`: the asset file a method wrote (unzipped when it ships a zip) and its intermediate views;
- `monitor`: wall clock, process-tree memory and GPU memory of a command;
- `preflight`, `source_index`: the spec checked against the upstream source before any GPU time is spent;
- `availability`: whether a method's environment is built and its weights are cached;
- `envs/`: the environments (venv, docker, apptainer), weights, offline bundles and `reconbench install`;
- `hooks/`: small scripts of ours that run inside a method's environment (e.g. saving threestudio's Gaussians).
"""
