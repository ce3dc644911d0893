"""Many pictures: a whole folder (folder: plan, engines, manifest), on Ray Data (ray), batches of arrays (cleaner)."""
