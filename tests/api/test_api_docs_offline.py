"""The API docs page works without internet: every asset it references is served by the app."""
import re
from urllib.parse import urljoin, urlsplit

ASSET_ATTRIBUTES = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)
ANY_URL = re.compile(r"""(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}""", re.I)
# Not requests: XML namespaces and licence or project links inside the bundled code's comments.
NOT_FETCHED = ("http://www.w3.org/",)


def test_docs_page_references_no_external_host(anonymous):
    page = anonymous.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "swagger-ui-bundle.js" in html
    external = [url for url in ANY_URL.findall(html) if not url.startswith(NOT_FETCHED)]
    assert external == [], f"the docs page references external hosts: {external}"
    assert '"validatorUrl": null' in html  # no validity badge from validator.swagger.io

    assets = ASSET_ATTRIBUTES.findall(html)
    assert len(assets) >= 3
    for asset in assets:
        url = urljoin("http://localhost/api/v1/docs", asset)
        assert urlsplit(url).netloc == "localhost", asset
        response = anonymous.get(urlsplit(url).path)  # public: no token needed
        assert response.status_code == 200, asset
        assert len(response.data) > 1000, asset


def test_docs_assets_cannot_escape_their_directory(anonymous):
    assert anonymous.get("/api/v1/docs/assets/../../../config.py").status_code == 404
    assert anonymous.get("/api/v1/docs/assets/nope.js").status_code == 404
