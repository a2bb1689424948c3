"""The venue-code poster: the QR opens the public check-in page of the place's code; the PNG is
an A4 image at 150 dpi; the PDF is one A4 page with the name, the code and the instructions."""

from __future__ import annotations

import io

import pytest
from django.test import RequestFactory
from django.urls import reverse
from PIL import Image
from weasyprint import HTML

from fangkong.places import posters
from fangkong.places.services_places import place_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def place(county, users):
    return place_create(
        actor=users.commander,
        name="眉县首善镇农贸市场（东区）二层冷鲜肉与水产品交易大厅",
        kind="market",
        division_code=county.village_a.code,
        address="首善镇平阳街12号",
    )


def test_checkin_url_uses_the_public_base_url_or_the_request(place, settings):
    settings.FANGKONG = {**settings.FANGKONG, "PUBLIC_BASE_URL": "https://fk.example.cn/"}
    assert posters.checkin_url(code=place.code) == f"https://fk.example.cn/v/{place.code}/"
    settings.FANGKONG = {**settings.FANGKONG, "PUBLIC_BASE_URL": ""}
    request = RequestFactory().get("/places/1/", HTTP_HOST="127.0.0.1:8000")
    assert posters.checkin_url(code=place.code, request=request) == (
        f"http://127.0.0.1:8000/v/{place.code}/"
    )


def test_png_is_an_a4_image(place):
    content = posters.poster_png(place, url=f"https://fk.example.cn/v/{place.code}/")
    assert content.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(content))
    assert image.format == "PNG"
    assert image.size == posters.PNG_SIZE
    # Red band on top, white paper below.
    assert image.getpixel((5, 5)) == posters.RED
    assert image.getpixel((5, image.size[1] // 2)) == (255, 255, 255)


def test_pdf_is_one_a4_page_with_name_code_and_instructions(place):
    url = f"https://fk.example.cn/v/{place.code}/"
    html = posters.poster_html(place, url=url)
    for text in ("场所码", place.name, place.code, "扫码登记，离开时再扫一次", "Noto Sans CJK SC"):
        assert text in html
    assert "data:image/svg+xml" in html
    document = HTML(string=html).render()
    assert len(document.pages) == 1
    width, height = document.pages[0].width, document.pages[0].height
    assert (round(width * 25.4 / 96), round(height * 25.4 / 96)) == (210, 297)
    content = posters.poster_pdf(place, url=url)
    assert content.startswith(b"%PDF")
    assert content.rstrip().endswith(b"%%EOF")


def test_poster_downloads_from_the_pages(place, users, login):
    client = login(users.town_officer)
    png = client.get(reverse("places:poster_png", args=[place.pk]))
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")
    assert "attachment" in png["Content-Disposition"]
    pdf = client.get(reverse("places:poster_pdf", args=[place.pk]))
    assert pdf.status_code == 200
    assert pdf.content.startswith(b"%PDF")
    other = login(users.other_town_officer)
    assert other.get(reverse("places:poster_pdf", args=[place.pk])).status_code == 404
