"""chainrule: the command-line entry point (``chainrule demo``, ...).

The library itself is three import packages: engine, nn and viz.
"""
