"""The contract files of contracts/shep: the request validator and the WSDL/XSDs served at ?wsdl and ?xsd=."""

from __future__ import annotations

import functools
import posixpath
from pathlib import Path

from lxml import etree

from emulators.core.contract import contracts_dir
from emulators.core.errors import ConfigError
from emulators.shep.soap import EHEALTH_NS, TYPES_NS, _parser

WSDL = "SyncChannel.wsdl"
XSD_NS = "http://www.w3.org/2001/XMLSchema"
WSDL_SOAP = ("http://schemas.xmlsoap.org/wsdl/soap/", "http://schemas.xmlsoap.org/wsdl/soap12/")


def folder() -> Path:
    return contracts_dir() / "shep"


def documents() -> list[str]:
    """Every document the endpoint serves, by its path under contracts/shep."""
    root = folder()
    return sorted(str(p.relative_to(root)) for p in (*root.rglob("*.xsd"), root / WSDL))


@functools.lru_cache(maxsize=1)
def request_schema() -> etree.XMLSchema:
    """SendMessage with the seed's business types: libxml2 follows data's xsi:type into them (X-1)."""
    root = folder()
    wrapper = (
        f'<xsd:schema xmlns:xsd="{XSD_NS}" targetNamespace="urn:medstand:shep">'
        f'<xsd:import namespace="{TYPES_NS}" schemaLocation="{(root / "syncchannel/Types.xsd").as_uri()}"/>'
        f'<xsd:import namespace="{EHEALTH_NS}" schemaLocation="{(root / "MedicalExemptionSearch.xsd").as_uri()}"/>'
        "</xsd:schema>"
    )
    try:
        return etree.XMLSchema(etree.fromstring(wrapper.encode()))
    except etree.XMLSchemaParseError as exc:
        raise ConfigError(f"contracts/shep: the schemas do not compile: {exc}") from exc


@functools.lru_cache(maxsize=64)
def served(name: str, base: str, address: str) -> bytes | None:
    """Document `name` with every schemaLocation pointing back at `base` (?xsd=…) and the port address set
    to `address`, so a client that reads the WSDL from the emulator gets everything from it; None if unknown."""
    if name not in documents():
        return None
    tree = etree.parse(str(folder() / name), _parser())
    for node in tree.iter(f"{{{XSD_NS}}}import", f"{{{XSD_NS}}}include"):
        location = node.get("schemaLocation")
        if location:
            target = posixpath.normpath(posixpath.join(posixpath.dirname(name), location))
            node.set("schemaLocation", f"{base}?xsd={target}")
    for soap in WSDL_SOAP:
        for node in tree.iter(f"{{{soap}}}address"):
            node.set("location", address)
    return bytes(etree.tostring(tree, xml_declaration=True, encoding="UTF-8"))
