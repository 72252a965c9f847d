"""Endorsed capabilities: support bodies (公設試, 商工会議所, 金融機関,
universities' industry-liaison offices, the bureau) vouch for one capability
on an organisation's profile; badges show on profiles, ranked lists and
recommendations; a coordinator decides which organisations may endorse."""
