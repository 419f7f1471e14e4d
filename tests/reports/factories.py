import factory

from reports.models import Report, ReportConcern


class ReportFactory(factory.django.DjangoModelFactory):
    """A published report unless told otherwise."""

    class Meta:
        model = Report

    title = factory.Sequence(lambda n: f"Annual report {n}")
    slug = factory.Sequence(lambda n: f"annual-report-{n}")
    publisher = "Amnesty International"
    year = 2023
    summary = "What the report found."
    full_text_url = (
        "https://www.amnesty.org/en/location/americas/south-america/peru/report-peru/"
    )
    is_published = True


class ReportConcernFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReportConcern

    report = factory.SubFactory(ReportFactory)
    text = factory.Sequence(lambda n: f"Concern number {n}.")
    order = factory.Sequence(int)
