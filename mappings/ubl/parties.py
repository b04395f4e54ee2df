"""UBL parties, addresses, contacts and identifiers → canonical `Party`.

Identifier schemes: a `schemeID` is an ISO/IEC 6523 ICD code (the PEPPOL code list). 0088 is the GS1
GLN, 0060 the DUNS number and 0160 the GS1 GTIN: these become "GLN", "DUNS", "GTIN"; UBL 2.0 senders
sometimes write those names themselves, which are taken as they are. Any other scheme is kept as sent,
prefixed: "UBL:0192" (Norwegian organisation number), "UBL:0007" (Swedish one). Without a schemeID a
UN/CEFACT `schemeAgencyID` of 9 (GS1) or 16 (Dun & Bradstreet) still names GLN or DUNS; an identifier
with neither is "PARTNER" (mutually defined), as in the EDIFACT and X12 mappings.

Which identifiers a party gets, in this order: EndpointID (its electronic address), each
PartyIdentification, the PartyLegalEntity CompanyID, a VAT PartyTaxScheme CompanyID ("UBL:VAT"), and the
account ids of UBL 2.0's customer/supplier party wrappers ("BUYER" for CustomerAssignedAccountID,
"SELLER" for SupplierAssignedAccountID: who assigned them is what those canonical schemes mean).
"""

from __future__ import annotations

from collections.abc import Mapping

from lxml import etree

from gateway.core.canonical import Address, Contact, Identifier, Party
from mappings.xml import Fields

SCHEMES = {"0088": "GLN", "0060": "DUNS", "0160": "GTIN", "GLN": "GLN", "DUNS": "DUNS", "GTIN": "GTIN"}
AGENCIES = {"9": "GLN", "16": "DUNS"}
ACCOUNT_SCHEMES = {"cbc:CustomerAssignedAccountID": "BUYER", "cbc:SupplierAssignedAccountID": "SELLER"}


def identifier(fields: Fields, element: etree._Element | None, default: str = "PARTNER") -> Identifier | None:
    value = fields.text(element)
    if element is None or value is None:
        return None
    return Identifier(scheme=scheme_of(element, default), value=value)


def scheme_of(
    element: etree._Element, default: str = "PARTNER", agencies: Mapping[str, str] = AGENCIES
) -> str:
    scheme = (element.get("schemeID") or "").strip()
    if scheme:
        return SCHEMES.get(scheme) or SCHEMES.get(scheme.upper()) or f"UBL:{scheme}"
    return agencies.get((element.get("schemeAgencyID") or "").strip(), default)


def party_of(fields: Fields, role: etree._Element | None) -> Party | None:
    """A party from a role wrapper such as cac:BuyerCustomerParty (which holds a cac:Party)."""
    if role is None:
        return None
    party = fields.find(role, "cac:Party")
    identifiers = _party_identifiers(fields, party)
    for path, scheme in ACCOUNT_SCHEMES.items():
        value = fields.text(role, path)
        if value is not None:
            _add(identifiers, Identifier(scheme=scheme, value=value))
    if party is None:
        return Party(identifiers=identifiers) if identifiers else None
    return Party(
        name=fields.text(party, "cac:PartyName/cbc:Name")
        or fields.text(party, "cac:PartyLegalEntity/cbc:RegistrationName"),
        identifiers=identifiers,
        address=address_of(fields, fields.find(party, "cac:PostalAddress")),
        contact=contact_of(fields, fields.find(party, "cac:Contact")),
    )


def ship_to_of(fields: Fields, delivery: etree._Element | None) -> Party | None:
    """The ship-to from a cac:Delivery: where (DeliveryLocation, or UBL 2.0's DeliveryAddress) and who
    receives (DeliveryParty)."""
    if delivery is None:
        return None
    location = fields.find(delivery, "cac:DeliveryLocation")
    receiver = fields.find(delivery, "cac:DeliveryParty")
    identifiers: list[Identifier] = []
    location_id = identifier(fields, fields.find(location, "cbc:ID"))
    if location_id is not None:
        identifiers.append(location_id)
    for found in _party_identifiers(fields, receiver):
        _add(identifiers, found)
    where = fields.find(location, "cac:Address")
    if where is None:
        where = fields.find(delivery, "cac:DeliveryAddress")
    name = fields.text(receiver, "cac:PartyName/cbc:Name") or fields.text(location, "cbc:Name")
    ship_to = Party(
        name=name,
        identifiers=identifiers,
        address=address_of(fields, where) or address_of(fields, fields.find(receiver, "cac:PostalAddress")),
        contact=contact_of(fields, fields.find(receiver, "cac:Contact")),
    )
    return ship_to if ship_to != Party() else None


def _party_identifiers(fields: Fields, party: etree._Element | None) -> list[Identifier]:
    found: list[Identifier] = []
    if party is None:
        return found
    candidates = [
        fields.find(party, "cbc:EndpointID"),
        *fields.findall(party, "cac:PartyIdentification/cbc:ID"),
    ]
    candidates.append(fields.find(party, "cac:PartyLegalEntity/cbc:CompanyID"))
    for element in candidates:
        _add(found, identifier(fields, element))
    for tax_scheme in fields.findall(party, "cac:PartyTaxScheme"):
        if (fields.text(tax_scheme, "cac:TaxScheme/cbc:ID") or "").upper() == "VAT":
            _add(found, identifier(fields, fields.find(tax_scheme, "cbc:CompanyID"), default="UBL:VAT"))
    return found


def _add(identifiers: list[Identifier], found: Identifier | None) -> None:
    if found is not None and found not in identifiers:
        identifiers.append(found)


def address_of(fields: Fields, element: etree._Element | None) -> Address | None:
    """Street lines: street name with building number, additional street name, building name, then the
    free address lines, in that order."""
    if element is None:
        return None
    street = " ".join(
        part
        for part in (fields.text(element, "cbc:StreetName"), fields.text(element, "cbc:BuildingNumber"))
        if part
    )
    lines = [
        street,
        fields.text(element, "cbc:AdditionalStreetName"),
        fields.text(element, "cbc:BuildingName"),
        *(fields.text(line) for line in fields.findall(element, "cac:AddressLine/cbc:Line")),
    ]
    address = Address(
        street=[line for line in lines if line],
        city=fields.text(element, "cbc:CityName"),
        postal_code=fields.text(element, "cbc:PostalZone"),
        region=fields.text(element, "cbc:CountrySubentity"),
        country=fields.text(element, "cac:Country/cbc:IdentificationCode"),
    )
    return address if address != Address() else None


def contact_of(fields: Fields, element: etree._Element | None) -> Contact | None:
    if element is None:
        return None
    contact = Contact(
        name=fields.text(element, "cbc:Name"),
        phone=fields.text(element, "cbc:Telephone"),
        email=fields.text(element, "cbc:ElectronicMail"),
    )
    return contact if contact != Contact() else None
