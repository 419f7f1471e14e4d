from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Page


@require_safe
def page_detail(request, slug):
    page = get_object_or_404(Page, slug=slug)
    events = page.events.all()
    return render(request, "pages/page_detail.html", {"page": page, "events": events})
