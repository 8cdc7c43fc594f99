"""The LLM-less one-line summary reads as prose: LaTeX text formatting gone, maths kept."""

from __future__ import annotations

from digests.scoring.lexical import extractive_summary
from digests.text import latex_formatting_removed


def test_the_summary_drops_text_formatting_but_keeps_maths() -> None:
    abstract = (
        r"Post-training is costly. We propose \textbf{Rubric-Conditioned \emph{Self}-Distillation},"
        r" a method with $\alpha$-scaled rewards. It works."
    )

    summary = extractive_summary(abstract)

    expected = (
        r"We propose Rubric-Conditioned Self-Distillation, a method with $\alpha$-scaled rewards."
    )
    assert summary == expected


def test_unknown_commands_and_unbalanced_braces_are_left_as_written() -> None:
    text = r"\cite{x} and \textbf{open and $\mathbf{x}$"
    assert latex_formatting_removed(text) == text


def test_a_sentence_lifted_out_of_its_abstract_drops_the_opener_that_points_back() -> None:
    abstract = (
        "Decoders for surface codes are slow. Therefore, we propose a neural decoder that "
        "runs in real time. To address this issue, we present nothing else."
    )
    assert extractive_summary(abstract) == "We propose a neural decoder that runs in real time."
    assert extractive_summary("However, the method works.") == "The method works."
    # a word that only starts like an opener stays
    assert extractive_summary("Thusly we show it.") == "Thusly we show it."
