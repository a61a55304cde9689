mod args;
