"""URLs of Open311 GeoReport v2 (mounted at ``open311/v2/``): every path as .json and .xml."""

from django.urls import URLPattern, re_path

from anwang.hazards import open311

app_name = "open311"

_FORMAT = r"\.(?P<fmt>json|xml)$"

urlpatterns: list[URLPattern] = [
    # The endpoint's base URL, named for discovery; it has no resource of its own.
    re_path(r"^$", open311.root, name="root"),
    re_path(rf"^discovery{_FORMAT}", open311.discovery, name="discovery"),
    re_path(rf"^services{_FORMAT}", open311.services, name="services"),
    re_path(rf"^services/(?P<code>[^/]+){_FORMAT}", open311.service_definition, name="service"),
    re_path(rf"^requests{_FORMAT}", open311.service_requests, name="requests"),
    re_path(rf"^requests/(?P<request_id>[^/]+){_FORMAT}", open311.service_request, name="request"),
    re_path(rf"^tokens/(?P<token>[^/]+){_FORMAT}", open311.token_lookup, name="token"),
    re_path(
        r"^media/(?P<key>[0-9]+-[0-9a-f]+)\.(?P<extension>[a-z0-9]+)$",
        open311.media,
        name="media",
    ),
]
