"""Speed and memory: the k-means and SNNL losses, the in-graph metrics, LM refits and memory."""
