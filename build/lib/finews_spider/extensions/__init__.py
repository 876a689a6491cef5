"""Extensions: the run lock, and the run summary that decides the exit status."""
