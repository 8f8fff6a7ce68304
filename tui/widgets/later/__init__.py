"""The panes of the stages after pretraining (tabs 2 and 3): the hand-off, the evals, the
probes; DPO's pairs and metrics; RLHF's metrics and samples."""
