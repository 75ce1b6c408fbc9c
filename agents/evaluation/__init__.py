"""`lecture eval`: TeachQuiz and aesthetic scores of lesson videos, measured with any
OpenAI-compatible vision model.

- cli.py: `add_eval_arguments(parser)`, `run_eval(args) -> int` (quiz | aes | bench);
- bank.py: the MMMC bank (data/), question ids, the exclude rule (exclude.json),
  seeded option permutations, the longest-option baseline;
- video.py: frames (+ transcript) of a Lecture build or any MP4 (`load_evidence`);
- build_folder.py: a build folder as eval reads it, its own files only (`load_build`);
- runner.py: the three TeachQuiz stages and the aesthetics call (`Evaluator`);
- answers.py: strict reading of answers (quiz_answer.schema.json, aes.schema.json);
- store.py: answers.jsonl, the resumable answer store;
- results.py, report.py: scores, bootstrap intervals, Markdown / HTML / JSON reports;
- layout_findings.py: Lecture's own layout findings per minute, when available.
"""
