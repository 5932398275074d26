"""Clustering quality: DEC / IDEC / N2D / DCN over seeds, DCN and SNNL on MNIST, DEC's settings."""
