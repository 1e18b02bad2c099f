"""ФХ СЭМД: registration results of СЭМД produced to Kafka (seed 5.2), with a consumption check."""

from emulators.fhsemd import plugin as _plugin  # noqa: F401  (registers the ФХ СЭМД emulator)
