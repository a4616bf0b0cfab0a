"""Paper and files: day sheets and queue tickets (:mod:`ui.paper.printing`), the
80 mm tax invoice (:mod:`ui.paper.receipt`), CSV and iCalendar export."""
