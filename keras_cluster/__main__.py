"""`python -m keras_cluster`: the `keras-cluster` command line."""

from keras_cluster.cli import main

raise SystemExit(main())
