"""`gankit playground`: a live 2D GAN playground in the browser (in the spirit of GAN Lab), backed
by the real engine: a gankit recipe trains on a toy while the page watches."""
