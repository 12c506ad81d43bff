"""The upstream adapters, one module per method, each defining SPEC as plain data (docs/adding-a-method.md);
modules starting with "_" hold pieces several adapters share (_pins: packages pinned once for all)."""
