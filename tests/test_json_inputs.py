"""A baseline or report file that cannot be read, or is not JSON, fails with its own domain
error (the CLI prints it as a message), through the one reader both share."""
import pytest

from policypack.offline.pipeline import CheckError, load_baseline
from policypack.offline.reports import ReportFormatError, load_report


@pytest.mark.parametrize("load, error", [(load_baseline, CheckError), (load_report, ReportFormatError)])
@pytest.mark.parametrize("content, cause", [(None, "cannot read"), ("{nope", "not valid JSON")])
def test_an_unreadable_or_malformed_file_raises_the_callers_error(tmp_path, load, error, content, cause):
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(error, match=cause):
        load(str(path))
