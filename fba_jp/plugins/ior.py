"""Importer of Record: who is written as importer (and consignee) on the invoice — DOMAIN §1 rules 1–4.

Since 1 Oct 2023 the importer of goods not sold to a Japan-based buyer is the party with the right of
disposal. Amazon, carriers, forwarders and brokers never have it, and a third party named "merely in
name" is refused.
"""

from fba_jp import Finding, hookimpl
from fba_jp.names import addressee, load_name_list, same_party

IMPORTER_RULE = "Customs Act Art. 6; Basic Notice 6-1 (revised, in force 1 Oct 2023)"
AMAZON_RULE = "Amazon Seller Central JP help 201468420; Customs Act Art. 6; Basic Notice 6-1"
FIX_SELLER_AS_IOR = (
    "Name your own company (the seller, which keeps the right of disposal) as Importer of Record and as "
    "invoice consignee; if it is not resident in Japan, appoint an Attorney for Customs Procedures (ACP) "
    "and notify Customs on Form C-7500 (about 2 weeks) before the goods ship."
)


@hookimpl
def register_checks(register):
    register(check_importer_of_record, name="importer_of_record",
             codes=["IOR_MISSING", "IOR_AMAZON", "IOR_CARRIER", "IOR_NOMINAL", "IOR_BUYER"])
    register(check_consignee, name="consignee", codes=["CONSIGNEE_AMAZON"])


def ior_is_seller(shipment) -> bool:
    """The IOR is the seller when it says so or its normalised name is the seller's (CONTRACT §2), also when
    written in care of where the goods go ("Acme Trading LLC c/o Amazon FSZ1") or with the seller's address
    after its name ("Acme Trading LLC, 1 Main St"): docs/rules.md."""
    ior = shipment.importer_of_record
    return ior is not None and (ior.is_seller or same_party(ior.name, shipment.seller.name))


def check_importer_of_record(shipment):
    ior = shipment.importer_of_record
    if ior is None:
        yield Finding(
            code="IOR_MISSING", severity="block", reference=IMPORTER_RULE,
            message="No Importer of Record is named; Japan Customs will not release the goods without one.",
            remedy=FIX_SELLER_AS_IOR,
        )
        return
    amazon = load_name_list("amazon_entities.toml")
    if (entity := amazon.match(ior.name)) is not None:
        yield Finding(
            code="IOR_AMAZON", severity="block", reference=AMAZON_RULE,
            evidence=f"importer_of_record.name {ior.name!r} matches {entity.name} ({amazon.file}, as of {amazon.as_of})",
            message=f"Importer of Record {ior.name!r} is Amazon. Amazon and its Japanese entities never act as "
                    "IOR or ACP; the shipment will be refused and returned at your expense.",
            remedy=FIX_SELLER_AS_IOR + " Put Amazon's fulfilment centre only in the delivery address (\"c/o\").",
        )
        return
    carriers = load_name_list("carriers.toml")
    if (entity := carriers.match(ior.name)) is not None:
        yield Finding(
            code="IOR_CARRIER", severity="block", reference=IMPORTER_RULE,
            evidence=f"importer_of_record.name {ior.name!r} matches {entity.name} ({carriers.file}, as of {carriers.as_of})",
            message=f"Importer of Record {ior.name!r} is a carrier, forwarder or customs broker ({entity.name}). "
                    "It has no right of disposal over your goods, so Customs will not accept it as importer.",
            remedy=FIX_SELLER_AS_IOR + " Your carrier or broker may still file the declaration as your agent.",
        )
        return
    if ior_is_seller(shipment):
        return  # the seller as IOR: whether it needs an ACP is the acp plugin's rule
    if shipment.import_transaction:
        yield Finding(
            code="IOR_BUYER", severity="info", reference=IMPORTER_RULE,
            message=f"Importer of Record {ior.name!r} is the Japan-based buyer in an import transaction; "
                    "that buyer is the importer and must hold the invoice as consignee.",
        )
        return
    yield Finding(
        code="IOR_NOMINAL", severity="block", reference=IMPORTER_RULE,
        evidence=f"importer_of_record.name {ior.name!r} is not the seller {shipment.seller.name!r} "
                 "and import_transaction is false",
        message=f"Importer of Record {ior.name!r} is a third party that does not buy the goods. Since "
                "1 Oct 2023 a nominal importer without the right of disposal is not accepted.",
        remedy=FIX_SELLER_AS_IOR + " If the third party really buys the goods, declare "
               "\"import_transaction\": true and invoice the sale to it.",
    )


def check_consignee(shipment):
    consignee = shipment.consignee
    if consignee is None:
        return
    amazon = load_name_list("amazon_entities.toml")
    # "Amazon.co.jp c/o <seller>" is still addressed to Amazon, whoever receives it for Amazon
    if (entity := amazon.match(consignee.name) or amazon.match(addressee(consignee.name))) is not None:
        yield Finding(
            code="CONSIGNEE_AMAZON", severity="block", reference=AMAZON_RULE,
            evidence=f"consignee.name {consignee.name!r} matches {entity.name} ({amazon.file}, as of {amazon.as_of})",
            message=f"The invoice consignee {consignee.name!r} is Amazon; the consignee must be the Importer of Record.",
            remedy="Write the Importer of Record as consignee on the commercial invoice and put the Amazon "
                   "fulfilment centre in the delivery address as \"c/o Amazon …\".",
        )
