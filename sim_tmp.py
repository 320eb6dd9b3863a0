import random, math, time
from statistics import NormalDist
from app.compare.significance import *
def sim(n, sd_a, sd_b, delta, trials=4000, seed=1):
    rng=random.Random(seed); hits=0
    for _ in range(trials):
        a=[rng.gauss(0,sd_a) for _ in range(n)]; b=[rng.gauss(delta,sd_b) for _ in range(n)]
        hits+= difference_interval(a,b).excludes_zero
    return hits/trials
t=time.time()
z=NormalDist().inv_cdf(0.8)
for n in (2,3,4,5,8):
    for sds in ((1,1),(0.5,1.5)):
        df=welch_df(sds[0]**2,n,sds[1]**2,n); se=math.sqrt((sds[0]**2+sds[1]**2)/n)
        tc=t_quantile(0.975,df)
        A=(tc+t_quantile(0.8,df))*se
        B=(tc+z*math.sqrt(1+tc*tc/(2*df)))*se
        C=(t_quantile(0.975,n-1)+t_quantile(0.8,n-1))*se
        print(n,sds,[(round(x,2),sim(n,*sds,x,2000)) for x in (A,B,C)])
print(time.time()-t)
