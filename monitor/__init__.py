"""ChairSide's clinical core: model, storage, protocol, rules and exports' data.

Nothing in this package imports Qt; the nurse's app in ``ui/`` sits on top of it.
"""

__version__ = "0.1.0"
