"""fupin (扶贫): the data platform of a county's targeted poverty-alleviation campaign."""

__version__ = "0.1.0"
