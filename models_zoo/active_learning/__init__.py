"""Active learning: pure scoring strategies (`scoring`) and the queue's stored scores."""
