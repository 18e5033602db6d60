# Reference fits for casekit.reach, computed with R's nls (stats package only).
#
# Run from the repository root:
#   Rscript tests/reference/nls_reference.R > tests/reference/nls_reference_console.txt
# It writes tests/reference/nls_reference.csv (dataset, model, term, estimate, std_error)
# and nls_profile_reference.csv (profile-t 95 % intervals of SSlogis);
# tests/test_reach_reference.py compares casekit's estimates and standard errors with it
# (relative 1e-4). CI does not need R: both outputs are committed.
#
# Data: growth_a.csv (the synthetic-example case's video_views, with confidence weights w)
# and growth_b.csv (a noisy Richards curve); see make_reference_data.py.

options(digits = 15)
here <- "tests/reference"
a <- read.csv(file.path(here, "growth_a.csv"))
b <- read.csv(file.path(here, "growth_b.csv"))
ctrl <- nls.control(maxiter = 500, tol = 1e-6, minFactor = 1e-10)
rows <- list()

record <- function(dataset, model, fit) {
  s <- summary(fit)
  co <- coef(s)
  cat("\n==== ", dataset, " / ", model, " ====\n", sep = "")
  print(s)
  cat("convergence (relative offset):", format(fit$convInfo$finTol, digits = 3), "\n")
  cat("logLik:", format(as.numeric(logLik(fit)), digits = 15),
      " AIC:", format(AIC(fit), digits = 15), "\n")
  out <- data.frame(dataset = dataset, model = model, term = rownames(co),
                    estimate = co[, "Estimate"], std_error = co[, "Std. Error"])
  extra <- data.frame(dataset = dataset, model = model,
                      term = c("sigma", "df_resid", "logLik", "AIC", "rss"),
                      estimate = c(s$sigma, s$df[2], as.numeric(logLik(fit)), AIC(fit),
                                   deviance(fit)),
                      std_error = NA)
  rows[[length(rows) + 1]] <<- rbind(out, extra)
}

# 1. self-starting logistic and Gompertz, ordinary least squares
#    (self-started with nls's default control, then refined to a tight tolerance)
for (nm in c("a", "b")) {
  d <- get(nm)
  f0 <- nls(y ~ SSlogis(t, Asym, xmid, scal), data = d)
  record(nm, "SSlogis", nls(y ~ SSlogis(t, Asym, xmid, scal), data = d,
                            start = as.list(coef(f0)), control = ctrl))
  f0 <- nls(y ~ SSgompertz(t, Asym, b2, b3), data = d)
  record(nm, "SSgompertz", nls(y ~ SSgompertz(t, Asym, b2, b3), data = d,
                               start = as.list(coef(f0)), control = ctrl))
}

# 2. weighted logistic (weights = confidence weights of growth_a)
f0 <- nls(y ~ SSlogis(t, Asym, xmid, scal), data = a, weights = w)
record("a", "SSlogis_weighted",
       nls(y ~ SSlogis(t, Asym, xmid, scal), data = a, weights = w,
           start = as.list(coef(f0)), control = ctrl))

# 3. logistic on the log scale: log(y) ~ log(K / (1 + exp(-r (t - t0))))
record("a", "logistic_log",
       nls(log(y) ~ log(K / (1 + exp(-r * (t - t0)))), data = a,
           start = list(K = 125000, r = 0.9, t0 = 3), control = ctrl))

# 4. Bass diffusion, plain nls in casekit's parameterisation
record("a", "bass",
       nls(y ~ m * (1 - exp(-(p + q) * t)) / (1 + (q / p) * exp(-(p + q) * t)), data = a,
           start = list(m = 125000, p = 0.1, q = 0.6), control = ctrl))

# 5. Richards, plain nls in casekit's parameterisation
record("b", "richards",
       nls(y ~ K / (1 + exp(-r * (t - t0)))^(1 / nu), data = b,
           start = list(K = 50000, r = 0.35, t0 = 8, nu = 0.5), control = ctrl))

# 6. profile-t intervals (95 %) of the self-starting logistic, computed as MASS's
#    confint.nls does (stats::profile, then spline interpolation of tau at the t quantile);
#    MASS itself is not needed
prof_rows <- list()
for (nm in c("a", "b")) {
  d <- get(nm)
  f0 <- nls(y ~ SSlogis(t, Asym, xmid, scal), data = d)
  fit <- nls(y ~ SSlogis(t, Asym, xmid, scal), data = d, start = as.list(coef(f0)),
             control = ctrl)
  cutoff <- c(-1, 1) * qt(0.975, df.residual(fit))
  pr <- profile(fit, alphamax = 0.001, delta.t = cutoff[2] / 16)
  for (pm in names(coef(fit))) {
    pro <- pr[[pm]]
    sp <- spline(x = pro[, "par.vals"][, pm], y = pro[, 1], n = 4000)
    lim <- approx(sp$y, sp$x, xout = cutoff)$y
    cat(nm, pm, "profile 95 %:", format(lim, digits = 12), "\n")
    prof_rows[[length(prof_rows) + 1]] <- data.frame(dataset = nm, model = "SSlogis",
                                                     term = pm, lower = lim[1], upper = lim[2])
  }
}
write.csv(do.call(rbind, prof_rows), file.path(here, "nls_profile_reference.csv"),
          row.names = FALSE)

res <- do.call(rbind, rows)
write.csv(res, file.path(here, "nls_reference.csv"), row.names = FALSE)
cat("\n", R.version.string, "\n", sep = "")
