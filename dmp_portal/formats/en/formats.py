"""English pages: British dates, day first.

Every date field of the portal is typed DD/MM/YYYY in both languages (the French habit, and
that of the documents patients hold); Django's English formats would show 15/12/2026 back as
12/15/2026, so a date typed is not the date read. Long dates are written out ("15 December
2026"), which no reader can misread; times keep Django's English "3 p.m.".
"""

DATE_FORMAT = "j F Y"
SHORT_DATE_FORMAT = "d/m/Y"
DATETIME_FORMAT = "j F Y, P"
SHORT_DATETIME_FORMAT = "d/m/Y P"
MONTH_DAY_FORMAT = "j F"
FIRST_DAY_OF_WEEK = 1  # Monday
DATE_INPUT_FORMATS = ["%d/%m/%Y", "%d/%m/%y", "%Y-%m-%d"]
DATETIME_INPUT_FORMATS = ["%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%Y-%m-%d %H:%M:%S"]
