"""medstand: faithful stand-ins for the external systems a medical information system integrates with."""

__version__ = "0.1.0"
