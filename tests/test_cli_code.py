"""chainrule code: the compiled backward pass, with the asked-for line marked."""

from chainrule.cli import main


def test_code_marks_the_dC_dw22_line_and_checks_it(capsys):
    assert main(["code"]) == 0
    out = capsys.readouterr().out
    marked = [line for line in out.splitlines() if "<<<" in line and "def " not in line]
    assert [line.split("#")[0].strip() for line in marked[1:]] == ["dC_dw2_22 = dC_dz3_2 * a2_2"]
    assert "z3_2 = w2_21*a2_1 + w2_22*a2_2 + w2_23*a2_3 + w2_24*a2_4 + b2_2" in out
    assert out.rstrip().endswith("equal")


def test_code_takes_any_parameter_in_the_articles_spelling(capsys):
    assert main(["code", "(b_1)^3", "--seed", "2"]) == 0
    out = capsys.readouterr().out
    assert "dC_db3_1 = dC_ds   # <<< dC/d(b_1)^3" in out


def test_code_rejects_an_unknown_name(capsys):
    assert main(["code", "w9_9"]) == 2
    assert "no node labelled 'w9_9'" in capsys.readouterr().err
