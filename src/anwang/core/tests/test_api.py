"""Cross-cutting API endpoints."""

import pytest

pytestmark = pytest.mark.django_db


def test_health_is_public(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"


def test_openapi_and_docs_are_served(client):
    schema = client.get("/api/v1/openapi.json")
    assert schema.status_code == 200
    assert schema.json()["info"]["title"] == "Anwang API"
    assert client.get("/api/v1/docs").status_code == 200


def test_errors_have_one_shape(world):
    client = world.client_for("community_admin")
    response = client.get(f"/api/v1/dashboard?community_id={world.b.community.pk}")
    assert response.status_code == 404
    assert set(response.json()) == {"detail", "code", "errors"}
    anonymous = client.__class__().get("/api/v1/my-work")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"


def test_api_docs_work_offline(client):
    page = client.get("/api/v1/docs").content.decode()
    assert "swagger-ui-bundle.js" in page
    assert "https://" not in page
    assert "http://" not in page.replace("http://testserver", "")
