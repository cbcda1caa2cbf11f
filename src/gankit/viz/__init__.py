"""Pictures of a run: sample grids, toy scatter plots, curves and the HTML report."""
