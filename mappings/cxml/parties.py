"""cXML credentials, addresses and contacts → canonical parties.

The buyer is the From credentials (the buying organisation on the network) and the seller the To
credentials: each Credential becomes an identifier, its domain the scheme ("DUNS" as is, other domains
prefixed: "CXML:NetworkID"). ShipTo and BillTo are Address elements: Name is the party name, addressID
an identifier ("CXML:addressID", or "CXML:<addressIDDomain>"), DeliverTo lines the contact's name,
Street lines the street, State the region, Country/@isoCountryCode (else Address/@isoCountryCode) the
country. Only Identity and domain of a Credential are read: never its SharedSecret.
"""

from __future__ import annotations

from lxml import etree

from gateway.core.canonical import Address, Contact, Identifier, Party
from mappings.xml import Fields

DOMAINS = {"DUNS": "DUNS", "GLN": "GLN"}
_SUPPLIER_ROLES = frozenset(
    {"sales", "customerService", "supplierCorporate", "supplierAccount", "supplierMasterAccount"}
)


def credential_scheme(domain: str | None) -> str:
    domain = (domain or "").strip()
    return DOMAINS.get(domain.upper()) or (f"CXML:{domain}" if domain else "PARTNER")


def credentials_party(fields: Fields, parent: etree._Element | None) -> Party | None:
    identifiers: list[Identifier] = []
    for credential in fields.findall(parent, "Credential"):
        value = fields.text(credential, "Identity")
        if value is not None:
            found = Identifier(scheme=credential_scheme(credential.get("domain")), value=value)
            if found not in identifiers:
                identifiers.append(found)
    return Party(identifiers=identifiers) if identifiers else None


def address_party(fields: Fields, address: etree._Element | None) -> Party | None:
    if address is None:
        return None
    identifiers = []
    address_id = (address.get("addressID") or "").strip()
    if address_id:
        domain = (address.get("addressIDDomain") or "").strip() or "addressID"
        identifiers.append(Identifier(scheme=f"CXML:{domain}", value=address_id))
    postal = fields.find(address, "PostalAddress")
    deliver_to = [t for t in (fields.text(e) for e in fields.findall(postal, "DeliverTo")) if t]
    return Party(
        name=fields.text(address, "Name"),
        identifiers=identifiers,
        address=_postal_address(fields, postal, address.get("isoCountryCode")),
        contact=contact_of(fields, address, ", ".join(deliver_to) or None),  # Name is the party's
    )


def _postal_address(fields: Fields, postal: etree._Element | None, country: str | None) -> Address | None:
    if postal is None:
        return None
    country_element = fields.find(postal, "Country")
    code = country_element.get("isoCountryCode") if country_element is not None else None
    return Address(
        street=[t for t in (fields.text(e) for e in fields.findall(postal, "Street")) if t],
        city=fields.text(postal, "City"),
        postal_code=fields.text(postal, "PostalCode"),
        region=fields.text(postal, "State"),
        country=(code or country or "").strip() or None,
    )


def contact_of(fields: Fields, element: etree._Element | None, name: str | None) -> Contact | None:
    """`name`, and the first Email and first Phone of an Address or a Contact."""
    if element is None:
        return None
    contact = Contact(
        name=name,
        email=fields.text(element, "Email"),
        phone=_phone(fields, fields.find(element, "Phone/TelephoneNumber")),
    )
    return contact if contact != Contact() else None


def buyer_contact(fields: Fields, header: etree._Element) -> Contact | None:
    """The first header Contact that is not on the supplier's side (sales, customer service …)."""
    for contact in fields.findall(header, "Contact"):
        if contact.get("role") not in _SUPPLIER_ROLES:
            return contact_of(fields, contact, fields.text(contact, "Name"))
    return None


def _phone(fields: Fields, number: etree._Element | None) -> str | None:
    """ "+1 800 5551212 ext. 12" from CountryCode, AreaOrCityCode, Number and Extension."""
    if number is None:
        return None
    country = fields.text(number, "CountryCode")
    parts = [f"+{country.lstrip('+')}" if country else None, fields.text(number, "AreaOrCityCode")]
    parts.append(fields.text(number, "Number"))
    extension = fields.text(number, "Extension")
    text = " ".join(p for p in parts if p)
    if extension:
        text += f" ext. {extension}"
    return text or None
