from django.contrib.auth import views as auth_views
from django.urls import URLPattern, URLResolver, include, path

from deposits.repositories import registry
from deposits.views import accounts, actions, dashboard, deposit_pages, export, files, versions

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
    path("accounts/", accounts.account_list, name="accounts"),
    path("accounts/new/", accounts.account_new, name="account-new"),
    path("accounts/<int:pk>/", accounts.account_card_view, name="account-card"),
    path("accounts/<int:pk>/edit/", accounts.account_edit, name="account-edit"),
    path("accounts/<int:pk>/verify/", accounts.account_verify, name="account-verify"),
    path("accounts/<int:pk>/unlink/", accounts.account_unlink, name="account-unlink"),
]
# Each repository's own pages (its web part), at /<kind>/...
urlpatterns += [
    path(f"{kind}/", include(part.urlpatterns)) for kind, part in registry.web_parts().items()
]
