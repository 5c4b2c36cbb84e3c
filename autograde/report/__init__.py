"""Report writers: each turns one GradingResults into one kind of output."""
