/* Runs spandsp's DTMF receiver (the one FreeSWITCH uses), default settings, over
 * 8 kHz WAV files and prints path<TAB>digits, for comparison with `ivr eval dtmf`
 * (BENCHMARKS.md, DTMF). Build: apt-get install libspandsp-dev libsndfile1-dev;
 * gcc -O2 spandsp_rx.c -o /tmp/spandsp_rx $(pkg-config --cflags --libs spandsp sndfile) */
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <sndfile.h>
#include <spandsp.h>
static char got[256]; static int n;
static void cb(void *u, const char *d, int len){ for(int i=0;i<len&&n<255;i++) got[n++]=d[i]; got[n]=0; }
int main(int argc,char**argv){
  for(int a=1;a<argc;a++){
    SF_INFO info; memset(&info,0,sizeof info); SNDFILE *f=sf_open(argv[a],SFM_READ,&info); if(!f){printf("%s\tERR\n",argv[a]);continue;}
    n=0; got[0]=0;
    dtmf_rx_state_t *rx=dtmf_rx_init(NULL,cb,NULL);
    int16_t buf[160]; sf_count_t k;
    if(info.samplerate!=8000){ printf("%s\t(rate %d, skipped)\n",argv[a],info.samplerate); sf_close(f); continue; }
    while((k=sf_read_short(f,buf,160))>0) dtmf_rx(rx,buf,(int)k);
    printf("%s\t%s\n",argv[a],got); dtmf_rx_free(rx); sf_close(f);
  }
}
