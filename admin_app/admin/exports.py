"""CSV downloads of admin pages: streamed, with spreadsheet formulas escaped."""

import csv

from flask import Response, stream_with_context

from admin_app.spreadsheet import escape_spreadsheet_formula


class _Echo:
    """A file-like object whose write returns the line, so csv.writer can feed a stream."""

    def write(self, value: str) -> str:
        return value


def csv_response(header, rows, filename: str) -> Response:
    """`rows` (an iterable of value lists, read while streaming) as a CSV attachment."""
    writer = csv.writer(_Echo())

    def lines():
        yield writer.writerow([str(value) for value in header])
        for row in rows:
            yield writer.writerow([escape_spreadsheet_formula(value) for value in row])

    return Response(
        stream_with_context(lines()),
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )
