"""OSDI (Open Supporter Data Interface) representations, as HAL+JSON.

Shapes follow the OSDI documents' examples: petitions.md, signatures.md,
record_signature.md, errors.md and aep.md in
https://github.com/opensupporter/osdi-docs (gh-pages). Only what this site
has is filled in; OSDI lets a system leave out the rest.
"""

import datetime

from django.conf import settings
from django.http import JsonResponse
from django.urls import reverse

from petitions.models import Petition, Signature

from .services import ErrorDescription

CONTENT_TYPE = "application/hal+json"
# "peru_campaign:<id>", as OSDI's "osdi_sample_system:<id>".
ID_PREFIX = "peru_campaign"
ORIGIN_SYSTEM = "Stand with the Victims of Repression in Peru"
DOCS_URL = "https://opensupporter.github.io/osdi-docs/{rel}"


def absolute(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def link(path: str) -> dict:
    return {"href": absolute(path)}


def osdi_date(value: datetime.datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def curies() -> list[dict]:
    return [{"name": "osdi", "href": DOCS_URL, "templated": True}]


def petition_links(petition: Petition) -> dict:
    return {
        "self": link(reverse("api:petition", args=[petition.slug])),
        "osdi:signatures": link(reverse("api:signatures", args=[petition.slug])),
        "osdi:record_signature_helper": link(
            reverse("api:record_signature_helper", args=[petition.slug])
        ),
    }


def petition_resource(petition: Petition, total_signatures: int) -> dict:
    return {
        "identifiers": [f"{ID_PREFIX}:{petition.slug}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": osdi_date(petition.created_at),
        "modified_date": osdi_date(petition.updated_at),
        "title": petition.title,
        "summary": petition.summary,
        # Sanitised when saved (petitions.models.Petition.save).
        "description": petition.body_html,
        "petition_text": petition.body,
        "browser_url": absolute(petition.get_absolute_url()),
        "total_signatures": total_signatures,
        "target": [{"name": petition.addressed_to}] if petition.addressed_to else [],
        "_links": petition_links(petition),
    }


def _without_empty(values: dict) -> dict:
    return {key: value for key, value in values.items() if value}


def signature_resource(signature: Signature, *, personal_data: bool) -> dict:
    """A confirmed signature. Names, e-mail and postcode only with personal_data;
    otherwise the country is all that is said about the signer."""
    address = {"country": signature.country.code or ""}
    person = {}
    if personal_data:
        given, _space, family = signature.full_name.partition(" ")
        address["postal_code"] = signature.postcode
        address["primary"] = True
        person = _without_empty(
            {
                "given_name": given,
                "family_name": family,
                "email_addresses": (
                    [{"address": signature.email, "primary": True}]
                    if signature.email
                    else []
                ),
            }
        )
    person["postal_addresses"] = [_without_empty(address)]
    resource = {
        "identifiers": [f"{ID_PREFIX}:{signature.pk}"],
        "origin_system": ORIGIN_SYSTEM,
        "created_date": osdi_date(signature.created_at),
        "modified_date": osdi_date(signature.confirmed_at),
        "action_date": osdi_date(signature.created_at),
        "person": person,
        "_links": {
            "osdi:petition": link(
                reverse("api:petition", args=[signature.petition.slug])
            )
        },
    }
    if signature.source:
        resource["referrer_data"] = {"source": signature.source}
    return resource


def collection(
    *, rel: str, items: list[dict], page, self_path: str, per_page: int
) -> dict:
    """A paged OSDI collection, as in petitions.md's collection example."""
    paginator = page.paginator

    def page_link(number: int) -> dict:
        return link(f"{self_path}?page={number}&per_page={per_page}")

    links = {
        "self": page_link(page.number),
        rel: [item["_links"]["self"] for item in items if "self" in item["_links"]],
        "curies": curies(),
    }
    if not links[rel]:
        del links[rel]
    if page.has_next():
        links["next"] = page_link(page.next_page_number())
    if page.has_previous():
        links["previous"] = page_link(page.previous_page_number())
    return {
        "total_pages": paginator.num_pages,
        "per_page": per_page,
        "page": page.number,
        "total_records": paginator.count,
        "_links": links,
        "_embedded": {rel: items},
    }


def hal_response(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(
        data, status=status, content_type=CONTENT_TYPE, json_dumps_params={}
    )
    # As the OSDI examples: private, and fresh on every request.
    response["Cache-Control"] = "max-age=0, private, must-revalidate"
    return response


def error_response(status: int, descriptions: list[ErrorDescription]) -> JsonResponse:
    """OSDI's error object (errors.md), for an atomic request."""
    status_entry = {
        "response_code": status,
        "error_descriptions": [
            _without_empty(
                {
                    "error_code": item.error_code,
                    "description": str(item.description),
                    "properties": list(item.properties),
                }
            )
            for item in descriptions
        ],
    }
    return hal_response(
        {
            "osdi:error": {
                "request_type": "atomic",
                "response_code": status,
                "resource_status": [status_entry],
            }
        },
        status=status,
    )
