"""A reference MIS for the FER 2.0 gateway: what a vendor's MIS must do, in a few hundred readable lines."""
