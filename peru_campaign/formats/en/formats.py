# English dates as the campaign writes them ("26 November 2026", "July 2024",
# "26 November 2026, 09:00");
# Spanish uses Django's own ("26 de noviembre de 2026", "julio de 2024").
DATE_FORMAT = "j F Y"
YEAR_MONTH_FORMAT = "F Y"
DATETIME_FORMAT = "j F Y, H:i"
