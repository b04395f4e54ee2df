"""Partner XML cannot reach files or the network, or exhaust memory, through the XML formats.

Every hostile document is sent through `translate()` as a partner's file would be, and must come back
rejected with a coded, located error and no order. A canary server on 127.0.0.1 and a canary file record
whether any parser ever tried to fetch what a document pointed at. The layers of `mappings.xml.safe` are
also tested one by one, so that each holds even if another one is removed.
"""

from __future__ import annotations

import io
import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from gateway.cli.translate_cmd import translation_payload
from gateway.core.errors import ParseError
from mappings.base import collect
from mappings.cxml import CxmlFormat
from mappings.translate import translate
from mappings.ubl import UblFormat
from mappings.xml import safe

ORDER_NS = "urn:oasis:names:specification:ubl:schema:xsd:Order-2"
CBC = "urn:oasis:names:specification:ubl:schema:xsd:CommonBasicComponents-2"
CAC = "urn:oasis:names:specification:ubl:schema:xsd:CommonAggregateComponents-2"
CANARY = "CANARY-7f3a"


def ubl_order(doctype: str = "", order_id: str = "PO-1") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>\n{doctype}\n'
        f'<Order xmlns="{ORDER_NS}" xmlns:cbc="{CBC}" xmlns:cac="{CAC}">\n'
        f"  <cbc:ID>{order_id}</cbc:ID>\n"
        "  <cbc:IssueDate>2024-05-01</cbc:IssueDate>\n"
        "  <cbc:DocumentCurrencyCode>EUR</cbc:DocumentCurrencyCode>\n"
        "  <cac:OrderLine><cac:LineItem><cbc:ID>1</cbc:ID>"
        '<cbc:Quantity unitCode="EA">2</cbc:Quantity></cac:LineItem></cac:OrderLine>\n'
        "</Order>\n"
    ).encode()


def cxml_order(doctype: str, body: str = "") -> bytes:
    return (
        f'<?xml version="1.0"?>\n{doctype}\n<cXML payloadID="p1" timestamp="2024-05-01T10:00:00Z">\n'
        '<Header><From><Credential domain="NetworkID"><Identity>BUYER1</Identity></Credential></From>\n'
        '<To><Credential domain="NetworkID"><Identity>SUP1</Identity></Credential></To>\n'
        '<Sender><Credential domain="NetworkID"><Identity>BUYER1</Identity>'
        "<SharedSecret>s3cr3t-value</SharedSecret></Credential></Sender></Header>\n"
        '<Request><OrderRequest><OrderRequestHeader orderID="C-1" orderDate="2024-05-01" type="new">'
        f'<Total><Money currency="EUR">4</Money></Total>{body}</OrderRequestHeader>\n'
        '<ItemOut quantity="2" lineNumber="1"><ItemID><SupplierPartID>A</SupplierPartID></ItemID>'
        '<ItemDetail><UnitPrice><Money currency="EUR">2</Money></UnitPrice><UnitOfMeasure>EA</UnitOfMeasure>'
        "</ItemDetail></ItemOut></OrderRequest></Request></cXML>\n"
    ).encode()


# -- canaries -----------------------------------------------------------------------------------------


class Canary:
    """An HTTP server on 127.0.0.1 that counts connections and would answer with the canary text."""

    def __init__(self) -> None:
        self.server = socket.socket()
        self.server.bind(("127.0.0.1", 0))
        self.server.listen()
        self.server.settimeout(0.1)
        self.port = self.server.getsockname()[1]
        self.connections = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self.server.accept()
            except OSError:
                continue
            self.connections += 1
            with connection:
                body = f'<!ENTITY leaked "{CANARY}">'.encode()
                connection.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.server.close()


@pytest.fixture
def canary() -> Iterator[Canary]:
    server = Canary()
    yield server
    server.close()


@pytest.fixture
def canary_file(tmp_path: Path) -> Path:
    path = tmp_path / "canary.dtd"
    path.write_text(f'<!ENTITY leaked "{CANARY}">')
    return path


def assert_refused(data: bytes, code: str) -> None:
    translation = translate(data)
    assert translation.status == "rejected" and translation.orders == []
    [error] = translation.errors
    assert error.code == code, error
    assert error.message and error.position is not None
    assert CANARY not in json.dumps(translation_payload(translation), default=str)


def laughs(levels: int = 10) -> str:
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10}">' for i in range(1, levels)
    ]
    return f"<!DOCTYPE Order [{''.join(entities)}]>"


# -- refused through translate() ------------------------------------------------------------------------


def test_file_entity_is_refused_and_the_file_never_read(canary_file: Path) -> None:
    data = ubl_order(f'<!DOCTYPE Order [\n<!ENTITY x SYSTEM "file://{canary_file}">\n]>', order_id="&x;")
    assert_refused(data, "XML_ENTITY_REFUSED")
    [error] = translate(data).errors
    assert error.position == 2 and error.segment == "DOCTYPE"


def test_network_entity_is_refused_and_never_fetched(canary: Canary) -> None:
    data = ubl_order(f'<!DOCTYPE Order [<!ENTITY x SYSTEM "{canary.url("x")}">]>', order_id="&x;")
    assert_refused(data, "XML_ENTITY_REFUSED")
    assert canary.connections == 0


def test_parameter_entity_is_refused_and_never_fetched(canary: Canary) -> None:
    data = ubl_order(
        f'<!DOCTYPE Order [<!ENTITY % p SYSTEM "{canary.url("p.dtd")}"> %p;]>', order_id="&leaked;"
    )
    assert_refused(data, "XML_ENTITY_REFUSED")
    assert canary.connections == 0


def test_billion_laughs_is_refused_fast_in_bounded_memory() -> None:
    data = ubl_order(laughs(), order_id="&lol9;")
    tracemalloc.start()
    started = time.perf_counter()
    try:
        assert_refused(data, "XML_ENTITY_REFUSED")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - started < 1.0
    assert peak < 5 * 1024 * 1024


def test_entity_declaration_in_a_utf16_document_is_refused() -> None:
    data = (
        ubl_order('<!DOCTYPE Order [<!ENTITY x "y">]>')
        .decode()
        .replace('encoding="UTF-8"', 'encoding="UTF-16"')
    )
    assert_refused(data.encode("utf-16"), "XML_ENTITY_REFUSED")


def test_internal_subset_without_entities_is_refused_too() -> None:
    assert_refused(ubl_order('<!DOCTYPE Order [<!ATTLIST Order extra CDATA "x">]>'), "XML_DTD_REFUSED")


def test_external_dtd_is_allowed_but_never_fetched(canary: Canary) -> None:
    data = cxml_order(f'<!DOCTYPE cXML SYSTEM "{canary.url("cXML.dtd")}">')
    translation = translate(data)
    assert translation.status == "accepted", translation.errors
    assert [o.order_number for o in translation.orders] == ["C-1"]
    ubl = translate(ubl_order(f'<!DOCTYPE Order SYSTEM "{canary.url("ubl.dtd")}">'))
    assert ubl.status == "accepted", ubl.errors
    assert canary.connections == 0


def test_entity_only_an_external_dtd_could_define_is_refused(canary: Canary) -> None:
    data = cxml_order(
        f'<!DOCTYPE cXML SYSTEM "{canary.url("cXML.dtd")}">', body="<Comments>&leaked;</Comments>"
    )
    assert_refused(data, "XML_ENTITY_REFUSED")
    assert canary.connections == 0


def test_oversized_document_is_refused_before_parsing() -> None:
    filler = "x" * (safe.DEFAULT_MAX_BYTES + 1)
    data = ubl_order().replace(b"</Order>", f"<cbc:Note>{filler}</cbc:Note></Order>".encode())
    translation = translate(data)
    assert translation.status == "rejected" and translation.orders == []
    [error] = translation.errors
    assert error.code == "XML_TOO_LARGE" and str(safe.DEFAULT_MAX_BYTES) in error.message


class EndlessStream(io.RawIOBase):
    """A stream that never ends: a reader without a limit would never return."""

    def __init__(self) -> None:
        self.served = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        size = 65536 if size is None or size < 0 else size
        self.served += size
        return b"<" * size


@pytest.mark.parametrize(
    "fmt", [UblFormat(max_bytes=100_000), CxmlFormat(max_bytes=100_000)], ids=["ubl", "cxml"]
)
def test_size_limit_stops_reading_a_stream(fmt: UblFormat | CxmlFormat) -> None:
    stream = EndlessStream()
    with pytest.raises(ParseError) as raised:
        collect(fmt.read(stream))  # type: ignore[arg-type]
    assert raised.value.code == "XML_TOO_LARGE"
    assert stream.served <= 100_000 + (1 << 20)


def test_malformed_xml_is_located_by_line_and_column() -> None:
    data = ubl_order().replace(
        b"<cbc:IssueDate>2024-05-01</cbc:IssueDate>", b"<cbc:IssueDate>2024-05-01</cbc:Issue>"
    )
    assert_refused(data, "XML_MALFORMED")
    [error] = translate(data).errors
    assert error.position == 5
    assert "line 5, column" in error.message and "IssueDate" in error.message


def test_empty_and_wrong_roots_are_refused_with_a_code_and_position() -> None:
    with pytest.raises(ParseError) as empty:
        collect(UblFormat().read(b" \n "))
    assert (empty.value.code, empty.value.position) == ("XML_EMPTY", 1)
    with pytest.raises(ParseError) as not_ubl:
        collect(UblFormat().read(cxml_order("")))
    assert (not_ubl.value.code, not_ubl.value.segment, not_ubl.value.position) == ("UBL_NOT_UBL", "/cXML", 3)
    with pytest.raises(ParseError) as not_cxml:
        collect(CxmlFormat().read(ubl_order()))
    assert (not_cxml.value.code, not_cxml.value.segment) == ("CXML_NOT_CXML", "/Order")
    assert_refused(b"<?xml version='1.0'?>\n<Order/>", "UNSUPPORTED_FORMAT")
    [error] = translate(b"<?xml version='1.0'?>\n<Order/>").errors
    assert "<Order>" in error.message and error.position == 2


# -- each layer on its own ----------------------------------------------------------------------------------


def test_the_parser_alone_never_loads_external_entities(canary: Canary, canary_file: Path) -> None:
    """Layer 2 without the prolog scan: declarations are read, but nothing they point at is fetched."""
    for target in (canary.url("p.dtd"), f"file://{canary_file}"):
        data = f'<!DOCTYPE r [<!ENTITY % p SYSTEM "{target}"> %p; <!ENTITY x SYSTEM "{target}">]><r>&x;</r>'
        root = etree.fromstring(data.encode(), safe.hardened_parser())
        dtd = root.getroottree().docinfo.internalDTD
        names = {e.name for e in dtd.iterentities()}
        assert "x" in names and "leaked" not in names  # "leaked" is declared only inside p.dtd
        assert CANARY not in etree.tostring(root).decode()
    assert canary.connections == 0


def test_the_parser_alone_does_not_expand_billion_laughs() -> None:
    started = time.perf_counter()
    try:
        root = etree.fromstring(f"{laughs()}<Order>&lol9;</Order>".encode(), safe.hardened_parser())
    except etree.XMLSyntaxError:
        pass  # libxml2's own amplification guard refused it
    else:
        assert len(etree.tostring(root)) < 10_000
    assert time.perf_counter() - started < 1.0


def test_the_post_parse_check_alone_refuses_declared_entities() -> None:
    root = etree.fromstring(b'<!DOCTYPE r [<!ENTITY x "y">]><r>&x;</r>', safe.hardened_parser())
    with pytest.raises(ParseError) as raised:
        safe.refuse_entities(root)
    assert raised.value.code == "XML_ENTITY_REFUSED"


# -- truncation: every cut is refused cleanly -------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_every_truncated_document_is_rejected_with_a_reason(data: st.DataObject) -> None:
    document = data.draw(st.sampled_from([ubl_order(), cxml_order('<!DOCTYPE cXML SYSTEM "cXML.dtd">')]))
    cut = data.draw(st.integers(min_value=0, max_value=len(document) - 12))
    translation = translate(document[:cut])
    assert translation.status == "rejected" and translation.orders == []
    assert translation.errors and all(e.code and e.message for e in translation.errors)
    assert "s3cr3t-value" not in json.dumps(translation_payload(translation), default=str)
