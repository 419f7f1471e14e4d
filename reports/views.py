from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from .models import Report


@require_safe
def report_list(request):
    reports = Report.objects.published()
    return render(request, "reports/report_list.html", {"reports": reports})


@require_safe
def report_detail(request, slug: str):
    report = get_object_or_404(Report.objects.published(), slug=slug)
    return render(
        request,
        "reports/report_detail.html",
        {"report": report, "concerns": report.concerns.all()},
    )
