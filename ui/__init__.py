"""ChairSide's Qt widgets. They show what they are given and forward what the user does;
clinical decisions and storage live in ``monitor/``."""
