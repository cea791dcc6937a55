from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from deposits.repositories import registry
from deposits.views import (
    accounts,
    actions,
    curation,
    dashboard,
    deposit_pages,
    export,
    files,
    versions,
)
from deposits.views import bulk as bulk_views
from deposits.views import hooks as hook_views
from deposits.views import notifications as notification_views
from deposits.views import policy as policy_views
from deposits.views import releases as release_views
from deposits.views import review as review_views
from deposits.views import subscriptions as subscription_views

urlpatterns: list[URLPattern | URLResolver] = [
    path(
        "login/",
        auth_views.LoginView.as_view(template_name="login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", dashboard.dashboard, name="dashboard"),
    path("deposits/new/", deposit_pages.deposit_new, name="deposit-new"),
    path("deposits/<int:pk>/", deposit_pages.deposit_page, name="deposit"),
    path("deposits/<int:pk>/delete/", versions.deposit_delete, name="deposit-delete"),
    path("deposits/<int:pk>/status/", dashboard.deposit_status, name="deposit-status"),
    path("deposits/<int:pk>/metadata/", deposit_pages.deposit_metadata, name="deposit-metadata"),
    path("deposits/<int:pk>/targets/", deposit_pages.deposit_targets, name="deposit-targets"),
    path(
        "deposits/<int:pk>/review/submit/",
        review_views.review_submit,
        name="deposit-review-submit",
    ),
    path(
        "deposits/<int:pk>/review/withdraw/",
        review_views.review_withdraw,
        name="deposit-review-withdraw",
    ),
    path("deposits/<int:pk>/review/comment/", review_views.review_comment, name="deposit-comment"),
    path(
        "deposits/<int:pk>/review/panel/",
        review_views.review_panel_view,
        name="deposit-review-panel",
    ),
    path("deposits/<int:pk>/review/watch/", review_views.review_watch, name="deposit-review-watch"),
    path("teams/<int:pk>/policy/", policy_views.team_policy, name="team-policy"),
    path(
        "deposits/<int:pk>/datacite.<str:fmt>",
        export.deposit_datacite,
        name="deposit-datacite",
    ),
    path("deposits/<int:pk>/files/", files.file_list, name="file-list"),
    path("deposits/<int:pk>/files/upload/", files.file_upload, name="file-upload"),
    path("deposits/<int:pk>/uploads/", files.upload_start, name="upload-start"),
    path("uploads/<uuid:uid>/", files.upload_chunk, name="upload-chunk"),
    path("files/<uuid:uid>/delete/", files.file_delete, name="file-delete"),
    path("targets/<int:pk>/", actions.target_card_view, name="target-card"),
    path("targets/<int:pk>/changes/", versions.target_changes_view, name="target-changes"),
    path(
        "targets/<int:pk>/discard-local/",
        versions.target_discard_local,
        name="target-discard-local",
    ),
    path("targets/<int:pk>/retry/", actions.target_retry, name="target-retry"),
    path("targets/<int:pk>/<slug:action>/", actions.target_action, name="target-action"),
    path("notifications/", notification_views.notification_list, name="notifications"),
    path("notifications/count/", notification_views.notification_count, name="notification-count"),
    path(
        "notifications/read-all/",
        notification_views.notification_read_all,
        name="notification-read-all",
    ),
    path(
        "notifications/settings/",
        notification_views.notification_settings,
        name="notification-settings",
    ),
    path(
        "notifications/<int:pk>/read/",
        notification_views.notification_read,
        name="notification-read",
    ),
    path(
        "notifications/<int:pk>/open/",
        notification_views.notification_open,
        name="notification-open",
    ),
    path("deposits/<int:pk>/follow/", notification_views.deposit_follow, name="deposit-follow"),
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/new/", accounts.account_new, name="account-new"),
    path("accounts/<int:pk>/", accounts.account_card_view, name="account-card"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account-edit"),
    path("accounts/<int:pk>/verify/", accounts.account_verify, name="account-verify"),
    path("accounts/<int:pk>/unlink/", accounts.account_unlink, name="account-unlink"),
]
# Curation: the review queue and each deposit's review page
urlpatterns += [
    path("review/", curation.review_queue, name="review-queue"),
    path("review/<int:pk>/", curation.review_page, name="review"),
    path("review/<int:pk>/approve/", curation.review_approve, name="review-approve"),
    path("review/<int:pk>/return/", curation.review_return, name="review-return"),
    path("review/<int:pk>/comment/", curation.review_comment, name="review-comment"),
]
# Bulk actions for curators (preview, then run)
urlpatterns += [path("review/bulk/", bulk_views.bulk_page, name="bulk")]
# Releases in: the forges' webhook endpoint, and the team's release sources
urlpatterns += [*hook_views.urlpatterns, *release_views.urlpatterns]
# Notifications out: the team's webhook subscriptions
urlpatterns += subscription_views.urlpatterns
# Each repository's own pages (its web part), at /<kind>/...
urlpatterns += [
    path(f"{kind}/", include(part.urlpatterns)) for kind, part in registry.web_parts().items()
]
